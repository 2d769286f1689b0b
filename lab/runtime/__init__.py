"""Where and how a lab's nodes run: backends (netns, docker), wiring (in the lab's fabric namespace), the node
image, the lab's NTP server, control-socket calls and the `Lab` handle over all of them."""
