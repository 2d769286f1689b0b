"""Watching a lab: the merged timeline of events, VLAN captures and their pcap summaries."""
