package care

// fullName is the SQL for the full name of the user whose username is in
// column col, or the column itself when no user has it (the command line,
// a resident of the public site): pages show people by name, and the name
// is found in the same query as the row, not one query a row.
func fullName(col string) string {
	return `COALESCE((SELECT un.full_name FROM users un WHERE un.username = ` + col + `), ` + col + `)`
}
