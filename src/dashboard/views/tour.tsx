export function TourButton() {
  return (
    <button type="button" data-testid="tour-start" disabled>
      Tour
    </button>
  );
}
