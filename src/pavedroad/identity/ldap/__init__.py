"""Users and groups synced from LDAP or Active Directory into the catalog as User and Group
entities, by an entity provider on its own schedule (see docs/ldap.md).

``directory`` reads the server with ldap3, ``entities`` turns entries into entities,
``provider`` is the catalog's provider and its hook registration.
"""

from pavedroad.identity.ldap.directory import LdapSyncError
from pavedroad.identity.ldap.entities import entity_name
from pavedroad.identity.ldap.provider import LdapProvider, LdapProviders

__all__ = ["LdapProvider", "LdapProviders", "LdapSyncError", "entity_name"]
