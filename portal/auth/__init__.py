"""Login: passwords, TOTP second factor, recovery codes, lockout, sessions."""
