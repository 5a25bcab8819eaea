"""Software templates: Backstage ``scaffolder.backstage.io/v1beta3`` Template entities run as
Backstage runs them — parameters, steps, actions, outputs — as tasks whose every step is logged,
plus golden-path templates and keeping generated repositories current."""
