"""Tables, engine, migrations and repository functions; imports nothing from bot/ or handlers/."""
