"""Delivery of ticket events to the vendor's helpdesk webhook."""
