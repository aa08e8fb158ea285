// The header's tab row scrolls sideways on phones: keep the current tab in view when the route changes.
import { useEffect } from 'preact/hooks';

export function useCurrentTabInView(): void {
  useEffect(() => {
    let raf = 0;
    // After the shell has re-rendered for the new route, so aria-current names the new tab.
    const show = () => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(() => document.querySelector('header nav [aria-current="page"]')?.scrollIntoView({ inline: 'nearest', block: 'nearest' }));
    };
    show();
    addEventListener('hashchange', show);
    return () => {
      cancelAnimationFrame(raf);
      removeEventListener('hashchange', show);
    };
  }, []);
}
