import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesCarried, ClientDirectory, lossPercent, type ClientFigures, type ClientHandle, type ClientKind, type ClientRecord } from './clients.js';

const zero: ClientFigures = { bytesSent: 0, packetsSent: 0, bytesReceived: 0, packetsLost: 0 };

function handle(kind: ClientKind, figures: ClientFigures, closed: string[] = []): ClientHandle {
  return {
    kind,
    protocol: 'rtsp',
    address: '127.0.0.1',
    url: 'rtsp://127.0.0.1/a.mp4',
    path: 'a.mp4',
    transport: 'UDP',
    figures: () => figures,
    close: (reason) => closed.push(reason),
  };
}

describe('ClientDirectory', () => {
  it("a viewer's bit rate is what it is sent, a publisher's what it sends us, a relay leg's either", () => {
    assert.equal(bytesCarried('rtsp-file', { ...zero, bytesSent: 100, bytesReceived: 7 }), 100);
    assert.equal(bytesCarried('publisher', { ...zero, bytesSent: 0, bytesReceived: 300 }), 300);
    assert.equal(bytesCarried('relay', { ...zero, bytesReceived: 300 }), 300);
    assert.equal(bytesCarried('relay', { ...zero, bytesSent: 200 }), 200);

    const d = new ClientDirectory();
    const viewer = { ...zero };
    const publisher = { ...zero };
    const v = d.add(handle('rtsp-live', viewer))!;
    const p = d.add(handle('publisher', publisher))!;
    const t0 = Date.now() + 1000;
    d.sample(t0);
    viewer.bytesSent = 10_000;
    viewer.bytesReceived = 500;
    publisher.bytesReceived = 20_000;
    d.sample(t0 + 1000);
    assert.equal(d.get(v)!.bitrateKbps, 80);
    assert.equal(d.get(p)!.bitrateKbps, 160);
  });

  it('loss is a share of the packets sent to a viewer, of those a publisher sent us', () => {
    assert.equal(lossPercent({ ...zero, packetsSent: 200, packetsLost: 10 }), 5);
    assert.equal(lossPercent({ ...zero, packetsReceived: 90, packetsLost: 10 }), 10);
    assert.equal(lossPercent(zero), 0);
    assert.equal(lossPercent({ ...zero, packetsSent: 1, packetsLost: 5 }), 100, 'never over 100');
    assert.equal(lossPercent({ ...zero, packetsSent: 10, packetsLost: -3 }), 0, 'duplicates make RTCP loss negative');
    const d = new ClientDirectory();
    const id = d.add(handle('rtsp-file', { ...zero, packetsSent: 50, packetsLost: 5, jitter: 3.5, packetsReceived: 45 }))!;
    const row = d.get(id)!;
    assert.equal(row.lossPercent, 10);
    assert.equal(row.jitter, 3.5);
    assert.equal(row.packetsReceived, 45);
  });

  it('disconnect asks the adapter to close; end drops the entry and hands on the record', () => {
    const records: ClientRecord[] = [];
    const d = new ClientDirectory({ ended: (r) => records.push(r) });
    const closed: string[] = [];
    const id = d.add(handle('rtsp-file', { ...zero, bytesSent: 1000 }, closed))!;
    assert.equal(d.disconnect(id), true);
    assert.deepEqual(closed, ['disconnected by the administrator']);
    assert.equal(d.disconnect('nobody'), false);
    d.end(id);
    assert.equal(d.size, 0);
    assert.equal(d.totalBytesSent, 1000, 'what it was sent stays in the total');
    assert.equal(records.length, 0, 'no record when none is given');
    d.end(id);
    assert.equal(d.totalBytesSent, 1000, 'ending twice counts once');
  });
});
