/**
 * Other tools' defaults, as settings, so that their users switch with one flag and keep their
 * task definitions, files and label sets (README, "Migrating"). A preset sits between our
 * defaults and everything else: a --config file, the environment and flags win over it.
 */
export const PRESETS = {
  /** prometheus-ecs-discoverer (trallnag) 3.x: only PROMETHEUS_TARGET=true marks; no container or instance id when the definition requires Fargate. */
  'prometheus-ecs-discoverer': {
    marker: { name: 'PROMETHEUS_TARGET', value: 'true' },
    labels: { fargateIds: 'compatibility' },
  },
  /**
   * prometheus-ecs-sd (signal-ai): paths without an interval in 1m-tasks.json, its label names,
   * PROMETHEUS_NOLABELS only when true, no container or instance id when the definition's
   * requiresCompatibilities holds FARGATE (whatever the task was launched on).
   */
  'prometheus-ecs-sd': {
    defaultInterval: '1m',
    labels: {
      cluster: 'ecs_cluster',
      taskVersion: 'ecs_task_version',
      taskId: 'ecs_task_id',
      containerId: 'ecs_container_id',
      instanceId: 'instance_id',
      noLabelsValue: 'true',
      customLabelsDockerLabel: '',
      fargateIds: 'compatibility',
    },
  },
  /** teralytics/prometheus-ecs-discovery: its docker labels and label set, and its one file of every target. */
  teralytics: {
    marker: { source: 'teralytics' },
    allTargetsFile: 'ecs_file_sd.yml',
  },
  /** The CloudWatch agent's and OTel ecs_observer's ECS_PROMETHEUS_* docker labels, and their label set. */
  'ecs-observer': {
    marker: { source: 'ecs-observer' },
  },
  /** sepich/prometheus-ecs-sd: its PROMETHEUS_SCRAPES and PROMETHEUS_LABELS docker labels, its label set, its one file. */
  sepich: {
    marker: { source: 'sepich' },
    allTargetsFile: 'ecs_file_sd.yml',
  },
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
