"""Generators of hostile and broken inputs for the test_hostile_* tests."""
