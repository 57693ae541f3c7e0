/** The route plugin's exported API. */
export {};
