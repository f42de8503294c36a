// Lives in platform, so that a service's own start-up checks (the secrets master key) can say so.
export { StartupError } from '@spindle/platform';
