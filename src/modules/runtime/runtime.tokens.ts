export const POD_DRIVERS = Symbol('POD_DRIVERS');
