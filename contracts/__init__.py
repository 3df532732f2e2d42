"""Jobbro's published event catalog: the envelope, the events of each producing service, the topics."""
