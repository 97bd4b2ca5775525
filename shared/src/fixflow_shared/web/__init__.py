"""What Fixflow's browser-facing applications (the staff console, the customer and technician
portal) share: languages, sessions in Redis with CSRF protection, calls to the services' public APIs
with the signed-in user's token, OpenID Connect sign-in, security headers, and the check of the
browser assets they vendor. Each application keeps its own pages, templates and catalogue."""
