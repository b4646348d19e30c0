"""Campaigns (K1-K3): who may run them, their recipient lists, SMS campaigns and their lifecycle."""
