"""The 4353 channel: device trust, and later config sync and GTM health (iQuery)."""
