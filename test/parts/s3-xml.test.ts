import { describe, expect, it } from 'vitest';
import { parseInitiate, parseListParts } from '../../src/parts/s3-xml.js';

describe("S3's XML as the protocol reads it", () => {
  it.each([
    ['the predefined entity', 'a&amp;b'],
    ['a decimal character reference', 'a&#38;b'],
    ['a hexadecimal character reference', 'a&#x26;b'],
  ])('an UploadId written with %s is read as its characters', (_how, written) => {
    const body = `<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>${written}</UploadId></InitiateMultipartUploadResult>`;
    expect(parseInitiate(body)).toBe('a&b');
  });

  it('an ETag written with character references is the same ETag', () => {
    const body =
      '<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><ETag>&#34;abc&#x22;</ETag><Size>5</Size></Part></ListPartsResult>';
    expect(parseListParts(body).parts).toEqual([{ partNumber: 1, etag: '"abc"', size: 5 }]);
  });
});
