"""Pure functions that turn stored figures and referrals into documents: the referral
letter (Markdown, DOCX) and the statistics (Markdown, JSON, XLSX). No I/O, no database:
they take the plain data classes the storage functions return."""
