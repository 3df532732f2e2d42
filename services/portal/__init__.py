"""The portal: server-rendered DKFDS pages, Danish first, over the services' APIs called with the user's token."""
