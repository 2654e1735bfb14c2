"""Interfaces for people: the kiosk page and its HTTP/WebSocket API."""
