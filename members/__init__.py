"""People: the User (an email address is the login), the roles a person holds (national staff,
councillor; regional representatives live in `regions`), councillor profiles and the requests
they make (council and ward changes, levy waivers, erasure), joining and invitations, CSV
imports of councillors, a person's own data, the export log, and the outbox that every email
about a person's business goes through (`Notice`)."""
