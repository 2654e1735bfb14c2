"""Benchmarks and reports: tables for people, JSON with the machine's details for records."""
