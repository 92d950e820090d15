"""The site's TLS certificate (MAIL-21): checking an upload, storing it, serving it without a restart."""
