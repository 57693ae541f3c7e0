/** The bond plugin's exported API. */
export {};
