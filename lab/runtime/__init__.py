"""Where and how a lab's nodes run: backends (netns, docker), wiring, the host firewall, the node
image, the lab's NTP server, control-socket calls and the `Lab` handle over all of them."""
