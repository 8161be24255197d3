/**
 * `webbrowser.open` for Node: opens a file or URL in the default browser through the `open`
 * package. On a machine with no display, `open` silently does nothing, so this says so instead.
 */

/** Opens a path or URL; resolves to true when a browser was asked to open it. */
export type Opener = (target: string) => Promise<boolean>;

/** Whether a graphical browser can plausibly be launched here. */
export function hasBrowser(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (env.BROWSER === 'none') return false;
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.BROWSER || env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The default {@link Opener}: the `open` package when a browser exists, else false. */
export const openInBrowser: Opener = async (target) => {
  if (!hasBrowser()) return false;
  const { default: open } = await import('open');
  const child = await open(target);
  child.on('error', () => undefined);
  child.unref();
  return true;
};
