// Smoke test for the local Kafka broker, run by `kafka.sh check` as a single-file Java program
// on the broker's own classpath (kafka-clients): create a topic if missing, produce one record
// (acks=all, idempotent), consume it back through a consumer group, delete the group.
// Usage: java -cp '<libs>/*' KafkaSmoke.java BOOTSTRAP TOPIC
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class KafkaSmoke {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    Properties common = new Properties();
    common.put("bootstrap.servers", bootstrap);
    common.put("request.timeout.ms", "10000");
    common.put("default.api.timeout.ms", "20000");

    try (Admin admin = Admin.create(common)) {
      if (!admin.listTopics().names().get().contains(topic)) {
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      }
    }

    String value = "smoke-" + UUID.randomUUID();
    Properties p = new Properties();
    p.putAll(common);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    long offset;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      RecordMetadata md = producer.send(new ProducerRecord<>(topic, "smoke", value)).get();
      offset = md.offset();
    }

    String group = "stockstream-smoke-" + UUID.randomUUID();
    Properties c = new Properties();
    c.putAll(common);
    c.put("key.deserializer", StringDeserializer.class.getName());
    c.put("value.deserializer", StringDeserializer.class.getName());
    c.put("group.id", group);
    c.put("auto.offset.reset", "earliest");
    boolean found = false;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 30_000;
      while (!found && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.value().equals(value)) {
            found = true;
          }
        }
      }
      consumer.commitSync();
    }
    try (Admin admin = Admin.create(common)) {
      admin.deleteConsumerGroups(List.of(group)).all().get();
    }
    if (!found) {
      System.err.println("kafka check: produced " + value + " at offset " + offset + " but did not consume it");
      System.exit(1);
    }
    System.out.println("kafka check: produced and consumed 1 record on " + topic + " (offset " + offset + ") at " + bootstrap);
  }
}
