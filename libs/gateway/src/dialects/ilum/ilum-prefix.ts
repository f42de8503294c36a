// Ilum's API lives at /api/v1 on its own port (ILUM_PORT, 9888); the gateway serves it here.
export const ILUM_PREFIX = 'compat/ilum/api/v1';
