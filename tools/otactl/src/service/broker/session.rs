//! One client connection of the embedded broker: a reader thread (this
//! module's [`run`]) and a writer thread fed by a channel.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, PubComp, PubRec, SubAck, UnsubAck,
};
use rumqttc::mqttbytes::Error as CodecError;
use rumqttc::{QoS, SubscribeReasonCode};

use super::topic::{valid_filter, valid_topic};
use super::{Registry, MAX_PACKET};

/// How long a new connection has to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads MQTT packets from a socket.
struct PacketReader {
    stream: TcpStream,
    buffer: BytesMut,
}

impl PacketReader {
    fn next(&mut self) -> io::Result<Packet> {
        loop {
            match Packet::read(&mut self.buffer, MAX_PACKET) {
                Ok(packet) => return Ok(packet),
                Err(CodecError::InsufficientBytes(_)) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Serves one connection until it closes.
pub(crate) fn run(registry: Arc<Registry>, stream: TcpStream) {
    if let Err(e) = serve(&registry, stream) {
        log::debug!("broker connection closed: {e}");
    }
}

fn serve(registry: &Arc<Registry>, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(CONNECT_TIMEOUT))?;
    let mut reader = PacketReader {
        stream: stream.try_clone()?,
        buffer: BytesMut::new(),
    };
    let Packet::Connect(connect) = reader.next()? else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the first packet must be CONNECT",
        ));
    };
    let keep_alive = u64::from(connect.keep_alive);
    stream.set_read_timeout((keep_alive > 0).then(|| Duration::from_millis(keep_alive * 1500)))?;

    let (tx, rx) = mpsc::channel();
    let writer = {
        let stream = stream.try_clone()?;
        thread::Builder::new()
            .name("ota-broker-writer".into())
            .spawn(move || write_packets(stream, rx))?
    };
    let id = registry.connect(&connect.client_id, tx.clone(), stream.try_clone()?);
    let _ = tx.send(Packet::ConnAck(ConnAck::new(
        ConnectReturnCode::Success,
        false,
    )));

    let result = loop {
        let packet = match reader.next() {
            Ok(packet) => packet,
            Err(e) => break Err(e),
        };
        match packet {
            Packet::Publish(publish) => {
                if !valid_topic(&publish.topic) {
                    break Err(io::Error::new(io::ErrorKind::InvalidData, "invalid topic"));
                }
                match publish.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => {
                        let _ = tx.send(Packet::PubAck(PubAck::new(publish.pkid)));
                    }
                    QoS::ExactlyOnce => {
                        let _ = tx.send(Packet::PubRec(PubRec::new(publish.pkid)));
                    }
                }
                registry.route(&publish);
            }
            Packet::PubRel(rel) => {
                let _ = tx.send(Packet::PubComp(PubComp::new(rel.pkid)));
            }
            Packet::Subscribe(subscribe) => {
                let codes = subscribe
                    .filters
                    .iter()
                    .map(|f| {
                        if valid_filter(&f.path) {
                            let granted = if f.qos == QoS::AtMostOnce {
                                QoS::AtMostOnce
                            } else {
                                QoS::AtLeastOnce
                            };
                            registry.subscribe(id, &f.path, granted);
                            SubscribeReasonCode::Success(granted)
                        } else {
                            SubscribeReasonCode::Failure
                        }
                    })
                    .collect();
                let _ = tx.send(Packet::SubAck(SubAck::new(subscribe.pkid, codes)));
            }
            Packet::Unsubscribe(unsubscribe) => {
                for filter in &unsubscribe.topics {
                    registry.unsubscribe(id, filter);
                }
                let _ = tx.send(Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)));
            }
            Packet::PingReq => {
                let _ = tx.send(Packet::PingResp);
            }
            Packet::Disconnect => break Ok(()),
            Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_) => {}
            other => {
                break Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected {other:?}"),
                ))
            }
        }
    };
    registry.disconnect(id);
    drop(tx);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = writer.join();
    result
}

/// Writes queued packets until the channel closes or the socket fails.
fn write_packets(mut stream: TcpStream, rx: Receiver<Packet>) {
    let mut buffer = BytesMut::new();
    for packet in rx {
        buffer.clear();
        if let Err(e) = packet.write(&mut buffer, MAX_PACKET) {
            log::warn!("broker: cannot encode a packet: {e}");
            continue;
        }
        if stream.write_all(&buffer).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}
