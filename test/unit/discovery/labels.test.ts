import { describe, expect, it } from 'vitest';
import { isUserLabelName, sanitizeLabelName, sortLabels, toCustomLabels } from '../../../src/discovery/labels.js';

describe('toCustomLabels', () => {
  it('turns each prefixed setting into a label named by the rest of the name, lowercased', () => {
    // Prepare
    const settings = { PROMETHEUS: 'true', PROMETHEUS_LABEL_Team: 'payments', PROMETHEUS_LABEL_TIER: 'frontend' };

    // Act
    const custom = toCustomLabels(settings, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom).toEqual({ labels: { team: 'payments', tier: 'frontend' }, warnings: [] });
  });

  it('ignores settings without the prefix', () => {
    // Prepare
    const settings = { PROMETHEUS_ENDPOINT: '/metrics', LOG_LEVEL: 'info', LABEL_team: 'x' };

    // Act
    const custom = toCustomLabels(settings, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom).toEqual({ labels: {}, warnings: [] });
  });

  it('uses the prefix of the setting', () => {
    // Prepare
    const settings = { ECS_LABEL_owner: 'alice', PROMETHEUS_LABEL_team: 'payments' };

    // Act
    const custom = toCustomLabels(settings, 'ECS_LABEL_');

    // Assess
    expect(custom).toEqual({ labels: { owner: 'alice' }, warnings: [] });
  });

  it('skips a name that starts with a digit, with a warning', () => {
    // Act
    const custom = toCustomLabels({ PROMETHEUS_LABEL_1abc: 'x' }, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom.labels).toEqual({});
    expect(custom.warnings).toEqual([expect.stringContaining('1abc')]);
  });

  it('skips a name that starts with "__", with a warning', () => {
    // Act
    const custom = toCustomLabels({ PROMETHEUS_LABEL___x: 'x' }, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom.labels).toEqual({});
    expect(custom.warnings).toEqual([expect.stringContaining('__x')]);
  });

  it('skips a name with a character outside [a-zA-Z0-9_], with a warning', () => {
    // Act
    const custom = toCustomLabels({ 'PROMETHEUS_LABEL_a-b': 'x', 'PROMETHEUS_LABEL_a.b': 'y' }, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom.labels).toEqual({});
    expect(custom.warnings).toHaveLength(2);
  });

  it('skips an empty name (the bare prefix), with a warning', () => {
    // Act
    const custom = toCustomLabels({ PROMETHEUS_LABEL_: 'x' }, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom.labels).toEqual({});
    expect(custom.warnings).toHaveLength(1);
  });

  it('keeps the valid labels when some names are invalid', () => {
    // Prepare
    const settings = { PROMETHEUS_LABEL_1abc: 'x', PROMETHEUS_LABEL_team: 'payments', 'PROMETHEUS_LABEL_a-b': 'y' };

    // Act
    const custom = toCustomLabels(settings, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom.labels).toEqual({ team: 'payments' });
    expect(custom.warnings).toHaveLength(2);
  });

  it('accepts a name that starts with a single underscore', () => {
    // Act
    const custom = toCustomLabels({ PROMETHEUS_LABEL__private: 'x' }, 'PROMETHEUS_LABEL_');

    // Assess
    expect(custom).toEqual({ labels: { _private: 'x' }, warnings: [] });
  });
});

describe('isUserLabelName', () => {
  it.each(['a', 'team', '_x', 'a1_b2', 'A'])('accepts %j', (name) => {
    expect(isUserLabelName(name)).toBe(true);
  });

  it.each(['', '1abc', '__x', '__meta_ecs_cluster', 'a-b', 'a.b', 'a b', 'é'])('rejects %j', (name) => {
    expect(isUserLabelName(name)).toBe(false);
  });
});

describe('sanitizeLabelName', () => {
  it('turns characters a label name cannot hold into "_"', () => {
    expect(sanitizeLabelName('com.example/tier-name')).toBe('com_example_tier_name');
  });

  it('keeps a valid name as it is', () => {
    expect(sanitizeLabelName('Tier_2')).toBe('Tier_2');
  });
});

describe('sortLabels', () => {
  it('gives the same labels with names in sorted order', () => {
    // Act
    const sorted = sortLabels({ job: 'web', __metrics_path__: '/m', instance: 'x' });

    // Assess
    expect(Object.entries(sorted)).toEqual([
      ['__metrics_path__', '/m'],
      ['instance', 'x'],
      ['job', 'web'],
    ]);
  });
});
