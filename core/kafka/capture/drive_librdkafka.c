/* librdkafka's C admin API against the capture listener: the admin requests that neither kcat nor
 * confluent-kafka-python 1.7.0 can send (DeleteRecords, ACLs, consumer-group listing, describing,
 * offsets and deletion, OffsetDelete).
 *
 * Usage: drive_librdkafka.sh HOST:PORT (it compiles this file with -lrdkafka and runs it). Each
 * call waits at most CALL_TIME_MS_MAX for its result; a failed call is reported and the next one
 * runs. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#define CALL_TIME_MS_MAX 8000
#define TOPIC "eddy-rdk"
#define GROUP "eddy-rdk-group"

static rd_kafka_t *rk;
static rd_kafka_queue_t *queue;

static rd_kafka_AdminOptions_t *Options(void) {
  char errstr[256];
  rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
  rd_kafka_AdminOptions_set_request_timeout(options, 5000, errstr, sizeof(errstr));
  return options;
}

/* Waits for the one result of the call just made, prints it, frees it. */
static void Await(const char *name, rd_kafka_AdminOptions_t *options) {
  rd_kafka_event_t *event = rd_kafka_queue_poll(queue, CALL_TIME_MS_MAX);
  if (event == NULL) {
    printf("+ %s: no result within %d ms\n", name, CALL_TIME_MS_MAX);
  } else {
    printf("+ %s: %s: %s\n", name, rd_kafka_event_name(event),
           rd_kafka_event_error(event) ? rd_kafka_event_error_string(event) : "ok");
    rd_kafka_event_destroy(event);
  }
  fflush(stdout);
  rd_kafka_AdminOptions_destroy(options);
}

static rd_kafka_topic_partition_list_t *Partitions(int64_t offset) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(2);
  rd_kafka_topic_partition_list_add(list, TOPIC, 0)->offset = offset;
  rd_kafka_topic_partition_list_add(list, TOPIC, 1)->offset = offset;
  return list;
}

static void Records(void) {
  rd_kafka_topic_partition_list_t *list = Partitions(1);
  rd_kafka_DeleteRecords_t *del = rd_kafka_DeleteRecords_new(list);
  rd_kafka_AdminOptions_t *options = Options();
  rd_kafka_DeleteRecords(rk, &del, 1, options, queue);
  Await("DeleteRecords", options);
  rd_kafka_DeleteRecords_destroy(del);
  rd_kafka_topic_partition_list_destroy(list);
}

static void Acls(void) {
  char errstr[256];
  rd_kafka_AclBinding_t *binding = rd_kafka_AclBinding_new(
      RD_KAFKA_RESOURCE_TOPIC, TOPIC, RD_KAFKA_RESOURCE_PATTERN_LITERAL, "User:eddy", "*",
      RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr));
  rd_kafka_AclBindingFilter_t *filter = rd_kafka_AclBindingFilter_new(
      RD_KAFKA_RESOURCE_TOPIC, TOPIC, RD_KAFKA_RESOURCE_PATTERN_MATCH, NULL, NULL,
      RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
  rd_kafka_AdminOptions_t *options = Options();
  rd_kafka_CreateAcls(rk, &binding, 1, options, queue);
  Await("CreateAcls", options);
  options = Options();
  rd_kafka_DescribeAcls(rk, filter, options, queue);
  Await("DescribeAcls", options);
  options = Options();
  rd_kafka_DeleteAcls(rk, &filter, 1, options, queue);
  Await("DeleteAcls", options);
  rd_kafka_AclBinding_destroy(binding);
  rd_kafka_AclBinding_destroy(filter);
}

static void Groups(void) {
  char errstr[256];
  rd_kafka_consumer_group_state_t states[] = {RD_KAFKA_CONSUMER_GROUP_STATE_STABLE,
                                              RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY};
  rd_kafka_AdminOptions_t *options = Options();
  rd_kafka_error_t *error =
      rd_kafka_AdminOptions_set_match_consumer_group_states(options, states, 2);
  if (error) rd_kafka_error_destroy(error);
  rd_kafka_ListConsumerGroups(rk, options, queue);
  Await("ListConsumerGroups", options);

  const char *groups[] = {GROUP};
  options = Options();
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, options, queue);
  Await("DescribeConsumerGroups", options);

  rd_kafka_topic_partition_list_t *list = Partitions(2);
  rd_kafka_AlterConsumerGroupOffsets_t *alter = rd_kafka_AlterConsumerGroupOffsets_new(GROUP, list);
  options = Options();
  rd_kafka_AlterConsumerGroupOffsets(rk, &alter, 1, options, queue);
  Await("AlterConsumerGroupOffsets", options);
  rd_kafka_AlterConsumerGroupOffsets_destroy(alter);

  rd_kafka_ListConsumerGroupOffsets_t *list_offsets =
      rd_kafka_ListConsumerGroupOffsets_new(GROUP, list);
  options = Options();
  error = rd_kafka_AdminOptions_set_require_stable_offsets(options, 1);
  if (error) rd_kafka_error_destroy(error);
  rd_kafka_ListConsumerGroupOffsets(rk, &list_offsets, 1, options, queue);
  Await("ListConsumerGroupOffsets", options);
  rd_kafka_ListConsumerGroupOffsets_destroy(list_offsets);

  rd_kafka_DeleteConsumerGroupOffsets_t *del_offsets =
      rd_kafka_DeleteConsumerGroupOffsets_new(GROUP, list);
  options = Options();
  rd_kafka_DeleteConsumerGroupOffsets(rk, &del_offsets, 1, options, queue);
  Await("DeleteConsumerGroupOffsets", options);
  rd_kafka_DeleteConsumerGroupOffsets_destroy(del_offsets);
  rd_kafka_topic_partition_list_destroy(list);

  rd_kafka_DeleteGroup_t *del_group = rd_kafka_DeleteGroup_new(GROUP);
  options = Options();
  rd_kafka_DeleteGroups(rk, &del_group, 1, options, queue);
  Await("DeleteGroups", options);
  rd_kafka_DeleteGroup_destroy(del_group);
  (void)errstr;
}

int main(int argc, char **argv) {
  char errstr[512];
  if (argc != 2) {
    fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
    return 2;
  }
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr)) ||
      rd_kafka_conf_set(conf, "client.id", "eddy-librdkafka", errstr, sizeof(errstr))) {
    fprintf(stderr, "config: %s\n", errstr);
    return 1;
  }
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == NULL) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  printf("librdkafka %s\n", rd_kafka_version_str());
  queue = rd_kafka_queue_new(rk);
  Records();
  Acls();
  Groups();
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return 0;
}
