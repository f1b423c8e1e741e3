"""The privacy app: residents see, download and erase what the service holds about their
email address (`/mes-donnees`), through a link sent to that address."""
