import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import com.google.protobuf.TimestampProto;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.WrappersProto;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes Confluent-framed Protobuf orders to a topic with protobuf-java and the Kafka Java client:
 * the interop oracle for recover's decoder. The descriptors are built here by hand (no protoc),
 * matching fixtures/protobuf/v1 (orders.proto, common/money.proto) field for field, so records
 * decode with the schema registered from those files; each order also carries field 99, which
 * v1 does not declare (recover must show it as an unknown field).
 *
 * Args: BROKERS TOPIC SCHEMA_ID COUNT. Writes COUNT orders (message index [0], the single byte
 * 0), then one Refund ([1]) and one Order.Item ([0, 0]), keys "java-N", "java-refund", "java-item".
 */
public class ProtobufOracle {
  public static void main(String[] args) throws Exception {
    String brokers = args[0];
    String topic = args[1];
    int schemaId = Integer.parseInt(args[2]);
    int count = Integer.parseInt(args[3]);

    FileDescriptor money = FileDescriptor.buildFrom(
        FileDescriptorProto.newBuilder()
            .setName("common/money.proto").setPackage("shop.common").setSyntax("proto3")
            .addMessageType(DescriptorProto.newBuilder().setName("Money")
                .addField(field("currency_code", 1, Type.TYPE_STRING))
                .addField(field("units", 2, Type.TYPE_INT64))
                .addField(field("nanos", 3, Type.TYPE_INT32)))
            .build(),
        new FileDescriptor[0]);
    FileDescriptor orders = FileDescriptor.buildFrom(
        FileDescriptorProto.newBuilder()
            .setName("orders.proto").setPackage("shop").setSyntax("proto3")
            .addDependency("common/money.proto").addDependency("google/protobuf/timestamp.proto").addDependency("google/protobuf/wrappers.proto")
            .addEnumType(EnumDescriptorProto.newBuilder().setName("Status")
                .addValue(value("STATUS_UNSPECIFIED", 0)).addValue(value("PLACED", 1)).addValue(value("PAID", 2)).addValue(value("SHIPPED", 3)))
            .addMessageType(DescriptorProto.newBuilder().setName("Order")
                .addNestedType(DescriptorProto.newBuilder().setName("Item")
                    .addField(field("sku", 1, Type.TYPE_STRING))
                    .addField(field("quantity", 2, Type.TYPE_INT32)))
                .addField(field("order_id", 1, Type.TYPE_STRING))
                .addField(field("customer_id", 2, Type.TYPE_STRING))
                .addField(field("amount_cents", 3, Type.TYPE_INT64))
                .addField(field("quantity", 4, Type.TYPE_INT32))
                .addField(field("weight_kg", 5, Type.TYPE_DOUBLE))
                .addField(field("gift", 6, Type.TYPE_BOOL))
                .addField(typed("status", 7, Type.TYPE_ENUM, ".shop.Status"))
                .addField(typed("placed_at", 8, Type.TYPE_MESSAGE, ".google.protobuf.Timestamp"))
                .addField(typed("total", 9, Type.TYPE_MESSAGE, ".shop.common.Money"))
                .addField(typed("items", 10, Type.TYPE_MESSAGE, ".shop.Order.Item").setLabel(Label.LABEL_REPEATED))
                .addField(typed("coupon", 13, Type.TYPE_MESSAGE, ".google.protobuf.StringValue")))
            .addMessageType(DescriptorProto.newBuilder().setName("Refund")
                .addField(field("order_id", 1, Type.TYPE_STRING))
                .addField(field("amount_cents", 2, Type.TYPE_INT64)))
            .build(),
        new FileDescriptor[] {money, TimestampProto.getDescriptor(), WrappersProto.getDescriptor()});
    Descriptor order = orders.findMessageTypeByName("Order");
    Descriptor item = order.findNestedTypeByName("Item");
    Descriptor refund = orders.findMessageTypeByName("Refund");
    Descriptor moneyType = money.findMessageTypeByName("Money");

    Properties props = new Properties();
    props.put("bootstrap.servers", brokers);
    props.put("acks", "all");
    props.put("enable.idempotence", "true");
    props.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    props.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
      for (int n = 0; n < count; n++) {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(order);
        b.setField(order.findFieldByName("order_id"), "java-" + n);
        b.setField(order.findFieldByName("customer_id"), "cust-" + (n % 7));
        b.setField(order.findFieldByName("amount_cents"), 9007199254740993L + n * 1000000007L);
        b.setField(order.findFieldByName("quantity"), -n);
        b.setField(order.findFieldByName("weight_kg"), n + 0.5);
        b.setField(order.findFieldByName("gift"), n % 2 == 1);
        b.setField(order.findFieldByName("status"), orders.findEnumTypeByName("Status").findValueByNumber(1 + n % 3));
        b.setField(order.findFieldByName("placed_at"), Timestamp.newBuilder().setSeconds(1521590400L + n).setNanos(n * 1000000).build());
        b.setField(order.findFieldByName("total"), DynamicMessage.newBuilder(moneyType)
            .setField(moneyType.findFieldByName("currency_code"), "USD")
            .setField(moneyType.findFieldByName("units"), -5L - n).build());
        b.addRepeatedField(order.findFieldByName("items"), DynamicMessage.newBuilder(item)
            .setField(item.findFieldByName("sku"), "J-" + n).setField(item.findFieldByName("quantity"), n).build());
        if (n % 2 == 0) b.setField(order.findFieldByName("coupon"), StringValue.of("JAVA" + n));
        b.setUnknownFields(UnknownFieldSet.newBuilder()
            .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(7L * n).build()).build());
        producer.send(new ProducerRecord<>(topic, 0, "java-" + n, frame(schemaId, List.of(0), b.build()))).get();
      }
      Message r = DynamicMessage.newBuilder(refund)
          .setField(refund.findFieldByName("order_id"), "java-0").setField(refund.findFieldByName("amount_cents"), -1L).build();
      producer.send(new ProducerRecord<>(topic, 0, "java-refund", frame(schemaId, List.of(1), r))).get();
      Message i = DynamicMessage.newBuilder(item).setField(item.findFieldByName("sku"), "J-item").build();
      producer.send(new ProducerRecord<>(topic, 0, "java-item", frame(schemaId, List.of(0, 0), i))).get();
    }
    System.out.println("produced " + (count + 2));
  }

  /** Magic byte 0, the schema id (4 bytes, big-endian), the message indexes, the message. */
  static byte[] frame(int schemaId, List<Integer> indexes, Message message) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(new byte[] {(byte) (schemaId >>> 24), (byte) (schemaId >>> 16), (byte) (schemaId >>> 8), (byte) schemaId});
    if (indexes.size() == 1 && indexes.get(0) == 0) {
      out.write(0); // the common case: [0] as the single byte 0
    } else {
      writeZigzag(out, indexes.size());
      for (int index : indexes) writeZigzag(out, index);
    }
    message.writeTo(out);
    return out.toByteArray();
  }

  static void writeZigzag(ByteArrayOutputStream out, int value) {
    int raw = (value << 1) ^ (value >> 31);
    while ((raw & ~0x7f) != 0) {
      out.write((raw & 0x7f) | 0x80);
      raw >>>= 7;
    }
    out.write(raw);
  }

  static FieldDescriptorProto.Builder field(String name, int number, Type type) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type).setLabel(Label.LABEL_OPTIONAL);
  }

  static FieldDescriptorProto.Builder typed(String name, int number, Type type, String typeName) {
    return field(name, number, type).setTypeName(typeName);
  }

  static EnumValueDescriptorProto.Builder value(String name, int number) {
    return EnumValueDescriptorProto.newBuilder().setName(name).setNumber(number);
  }
}
