export function DemoButton() {
  return (
    <button type="button" data-testid="demo-play" disabled>
      Play Demo
    </button>
  );
}
