import { describe, expect, it } from 'vitest';
import { maskedByPayload } from './lakera.ts';

const finding = (message_id: number, start: number, end: number, detector_type = 'pii/email') => ({ message_id, start, end, detector_type, text: 'x' });

describe("Lakera's PII payload masking", () => {
  it('masks each finding in the text of its message, in code points, several in one text from the end', () => {
    const texts = ['Be kind.', '🍰 a@b.io and c@d.io', 'card 4111'];
    expect(maskedByPayload(texts, [finding(1, 2, 8), finding(1, 13, 19), finding(2, 5, 9, 'pii/credit_card')]))
      .toEqual(['Be kind.', '🍰 [MASKED EMAIL] and [MASKED EMAIL]', 'card [MASKED CREDIT_CARD]']);
  });

  it('applies nothing when a finding does not fit its text, or names no message there is, or there is none', () => {
    const texts = ['a@b.io'];
    expect(maskedByPayload(texts, [finding(0, 0, 7)])).toBeUndefined();
    expect(maskedByPayload(texts, [finding(1, 0, 2)])).toBeUndefined();
    expect(maskedByPayload(texts, [finding(0, 3, 2)])).toBeUndefined();
    expect(maskedByPayload(texts, [{ message_id: 0, start: '0', end: 2, detector_type: 'pii/email' }])).toBeUndefined();
    expect(maskedByPayload(texts, [])).toBeUndefined();
    expect(maskedByPayload(texts, undefined)).toBeUndefined();
  });

  it('masks a span two detectors found once, and a span inside another with the outer one, keeping the text around them', () => {
    const text = 'mail a@b.io now please';
    expect(maskedByPayload([text], [finding(0, 5, 11), finding(0, 5, 11, 'pii/contact')])).toEqual(['mail [MASKED EMAIL] now please']);
    expect(maskedByPayload([text], [finding(0, 5, 11, 'pii/contact'), finding(0, 7, 8, 'pii/name')])).toEqual(['mail [MASKED CONTACT] now please']);
    expect(maskedByPayload([text], [finding(0, 7, 8, 'pii/name'), finding(0, 5, 11, 'pii/contact')])).toEqual(['mail [MASKED CONTACT] now please']);
    // Overlapping, neither inside the other: their union, once.
    expect(maskedByPayload([text], [finding(0, 5, 9), finding(0, 7, 15, 'pii/contact')])).toEqual(['mail [MASKED CONTACT] please']);
  });
});
