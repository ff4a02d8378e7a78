import { describe, expect, it } from 'vitest';
import { normaliseMpMessage } from '../../../lib/callback/mpMessage';
import { parseWechatXml } from '../../../lib/xml';

const RECEIVED = new Date('2026-11-21T08:00:00.000Z');
const envelope = (msgType: string, body: string, msgId = '<MsgId>1234567890123456</MsgId>') =>
  `<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[${msgType}]]></MsgType>${body}${msgId}</xml>`;
const normalise = (xml: string) => normaliseMpMessage(parseWechatXml(xml), 'default', RECEIVED);

describe('normaliseMpMessage', () => {
  it('fills the envelope of the inbound contract', () => {
    expect(normalise(envelope('text', '<Content><![CDATA[hi]]></Content>'))).toEqual({
      schema: 'kf-bridge.inbound/v1',
      app: 'default',
      channel: 'mp',
      id: expect.stringMatching(/^msg_[0-9a-f]{40}$/),
      mpMsgId: '1234567890123456',
      account: 'gh_123',
      customer: 'oUser',
      origin: 'customer',
      sentAt: 1700000000,
      receivedAt: '2026-11-21T08:00:00.000Z',
      message: { type: 'text', content: 'hi' },
    });
  });

  it.each([
    [
      'text with a menu click',
      'text',
      '<Content>yes</Content><bizmsgmenuid>101</bizmsgmenuid>',
      { type: 'text', content: 'yes', menuId: '101' },
    ],
    [
      'image',
      'image',
      '<PicUrl>https://x/p.jpg</PicUrl><MediaId>m1</MediaId>',
      { type: 'image', mediaId: 'm1', picUrl: 'https://x/p.jpg' },
    ],
    [
      'voice',
      'voice',
      '<MediaId>m2</MediaId><Format>amr</Format><Recognition>你好</Recognition>',
      { type: 'voice', mediaId: 'm2', format: 'amr', recognition: '你好' },
    ],
    [
      'video',
      'video',
      '<MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId>',
      { type: 'video', mediaId: 'm3', thumbMediaId: 't3' },
    ],
    [
      'shortvideo',
      'shortvideo',
      '<MediaId>m4</MediaId><ThumbMediaId>t4</ThumbMediaId>',
      { type: 'shortvideo', mediaId: 'm4', thumbMediaId: 't4' },
    ],
    [
      'location',
      'location',
      '<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label>广州</Label>',
      { type: 'location', latitude: 23.134521, longitude: 113.358803, scale: 20, address: '广州' },
    ],
    [
      'link',
      'link',
      '<Title>T</Title><Description>D</Description><Url>https://x</Url>',
      { type: 'link', title: 'T', description: 'D', url: 'https://x' },
    ],
    [
      'an unknown type, flagged and raw',
      'card',
      '<Anything>1</Anything>',
      { type: 'unknown', platformType: 'card' },
    ],
  ])('normalises %s', (_, msgType, body, expected) => {
    expect(normalise(envelope(msgType, body)).message).toMatchObject(expected);
  });

  it('keys a message on MsgId, CreateTime and FromUserName, since MsgIds of different followers can collide', () => {
    const xml = envelope('text', '<Content>hi</Content>');
    const first = normalise(xml);
    expect(normalise(xml).id).toBe(first.id);
    expect(normalise(xml.replace('[oUser]', '[oOtherUser]'))).toMatchObject({
      id: expect.not.stringMatching(first.id),
      mpMsgId: '1234567890123456',
    });
    expect(normalise(xml.replace('1700000000', '1700000001')).id).not.toBe(first.id);
    expect(normalise(xml.replace('1234567890123456', '1234567890123457')).id).not.toBe(first.id);
  });

  it('normalises an event with a stable id derived from sender, time and event', () => {
    const xml = envelope(
      'event',
      '<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_1]]></EventKey><Ticket>T</Ticket>',
      '',
    );
    const first = normalise(xml);
    expect(first).toMatchObject({
      origin: 'event',
      message: { type: 'event', event: 'subscribe', fields: { EventKey: 'qrscene_1', Ticket: 'T' } },
    });
    expect(first.id).toMatch(/^event_[0-9a-f]{40}$/);
    expect(normalise(xml).id).toBe(first.id);
    expect(normalise(xml.replace('subscribe', 'unsubscribe')).id).not.toBe(first.id);
  });

  it.each([
    [
      'no MsgType',
      '<xml><FromUserName>o</FromUserName><ToUserName>g</ToUserName><CreateTime>1</CreateTime></xml>',
      'Official Account message has no <MsgType>',
    ],
    [
      'a message without MsgId',
      envelope('text', '<Content>x</Content>', ''),
      'Official Account message has no <MsgId>',
    ],
    [
      'a non-numeric CreateTime',
      envelope('text', '<Content>x</Content>').replace('1700000000', 'soon'),
      'Official Account message has a non-numeric <CreateTime>',
    ],
    [
      'a location without coordinates',
      envelope('location', '<Label>x</Label>'),
      'Official Account message has no <Location_X>',
    ],
    [
      'a voice without MediaId',
      envelope('voice', '<Format>amr</Format>'),
      'Official Account message has no <MediaId>',
    ],
  ])('refuses %s with a message naming the field', (_, xml, message) => {
    expect(() => normalise(xml)).toThrow(message);
  });
});
