/** The same connection URL, naming another database on the same server. */
export const withDatabaseName = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

/** The database a connection URL names. */
export const databaseNameOf = (url: string): string => decodeURIComponent(new URL(url).pathname.slice(1));
