"""Device Service Clustering: config sync, network failover, floating addresses."""
