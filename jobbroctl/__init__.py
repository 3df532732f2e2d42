"""The `jobbro` command line and the local stack: apart from the kit, because they import services, demo and bench."""
