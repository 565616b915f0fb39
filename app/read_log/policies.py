"""The read log: a team's members read it (teams.policies.can_read_confidential, through
records.deps.WithinTeamRecords): the same people who read the records it is about. It holds
who read what and when, never content; administrators, who read no record, read no log (the
district's audit trail, app/audit, holds the same facts for district administrators)."""
