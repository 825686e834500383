"""Campaigns (rilevazioni): the admin's pages (see the module's routes below)."""
