"""Writes for campaigns and mailings: composing (compose.py) and sending (sending.py)."""
