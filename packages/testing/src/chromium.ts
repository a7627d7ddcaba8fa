/** playwright-core launch options for Debian's Chromium: headless in a container (no sandbox, GPU or /dev/shm), quiet. */
export const CHROMIUM = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
  ],
};
