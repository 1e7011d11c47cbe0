/** Text safe in HTML content and in a quoted attribute: `& < > " '` as numeric character references. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
