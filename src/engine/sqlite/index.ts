export type { SqliteEngineOptions } from "./sqlite-engine.js";
export { openSqliteEngine } from "./sqlite-engine.js";
