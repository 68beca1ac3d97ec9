# The audit log has its own viewer for staff (/staff/audit/); the admin never edits it.
