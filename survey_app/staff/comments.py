"""Citizens' free-text comments for the services in the user's scope (see the module's routes below)."""
