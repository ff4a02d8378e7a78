/** Minimal multipart/form-data reader: enough for `media/upload` and MP avatar uploads. */
export interface FilePart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

export function parseMultipart(body: Buffer, contentType: string | undefined): FilePart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return [];
  const delimiter = Buffer.from(`--${marker}`);
  const parts: FilePart[] = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const chunk = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = chunk.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = chunk.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      if (name !== undefined) {
        const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
        const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
        parts.push({
          name,
          ...(filename !== undefined && { filename }),
          ...(type && { contentType: type }),
          data: chunk.subarray(headerEnd + 4),
        });
      }
    }
    start = next;
  }
  return parts;
}
