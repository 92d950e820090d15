"""The health self-check (MAIL-10): checks, the periodic report mailed to administrators, its pages."""
