"""Who people are (the catalog's User and Group entities) and how they prove it: sessions from
local accounts or OpenID Connect, API tokens, and users and groups synced from LDAP."""
