export function HelpButton() {
  return (
    <button type="button" data-testid="help-open" disabled>
      Help
    </button>
  );
}
