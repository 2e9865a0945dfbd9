import { describe, expect, it } from 'vitest';
import { fromEc2Instance, fromManagedInstance } from '../../../src/discovery/model.js';
import { resolveTaskTargets, toAddress, type TaskContext } from '../../../src/discovery/resolveTargets.js';
import {
  DEFAULT_OPTIONS,
  MANAGED_HOST,
  PROD_HOST,
  loadContext,
  readDescribeInstanceInformation,
  readDescribeInstancesIpv6Only,
} from '../../fixtures/ecsFixtures.js';

const resolve = (context: TaskContext) => resolveTaskTargets(context, DEFAULT_OPTIONS);
const onlyInstance = () => readDescribeInstancesIpv6Only().Reservations[0]!.Instances[0]!;

describe('toAddress', () => {
  it.each([
    ['127.0.0.1', 9100, '127.0.0.1:9100'],
    ['::1', 9100, '[::1]:9100'],
    ['2001:db8::7', 9100, '[2001:db8::7]:9100'],
  ])('writes %s and port %i as %s', (ip, port, address) => {
    expect(toAddress(ip, port)).toBe(address);
  });
});

describe('IPv6', () => {
  it('scrapes an IPv6-only awsvpc task on its IPv6 address, in brackets, with the bare address as __meta_ecs_ip_address', () => {
    // Prepare: the container's interface and the ENI attachment carry only ipv6Address
    const context = loadContext('awsvpc-ipv6');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.skips).toEqual([]);
    expect(resolution.targets.map((target) => target.address)).toEqual(['[::1]:8080']);
    expect(resolution.targets[0]?.labels).toMatchObject({ instance: '[::1]:8080', __meta_ecs_ip_address: '::1' });
  });

  it('falls back to the ENI attachment detail ipv6Address when the container interface has none', () => {
    const context = loadContext('awsvpc-ipv6');
    const task = { ...context.task, containers: context.task.containers.map((container) => ({ ...container, ipv6: undefined })) };

    expect(resolve({ ...context, task }).targets.map((target) => target.address)).toEqual(['[::1]:8080']);
  });

  it('keeps preferring IPv4 on a dual-stack awsvpc task', () => {
    const context = loadContext('awsvpc-fargate');
    const task = {
      ...context.task,
      eniIpv6: '::1',
      containers: context.task.containers.map((container) => ({ ...container, ipv6: '::1' })),
    };

    expect(resolve({ ...context, task }).targets.map((target) => target.address)).toEqual(['127.0.1.10:8080']);
  });

  it('reads the IPv6 address of an IPv6-only EC2 instance, and the IPv4 one of others', () => {
    // The same answer gives the subnet and the tags.
    const rest = { instanceType: 't4g.medium', subnetId: 'subnet-0b1c2d3e4f5a6b7c8', tags: { Name: 'ecs-ipv6-host' } };
    expect(fromEc2Instance(onlyInstance())).toEqual({ ipv6: '::1', ...rest });
    expect(fromEc2Instance({ ...onlyInstance(), Ipv6Address: undefined })).toEqual({ ipv6: '::1', ...rest });
    expect(fromEc2Instance({ InstanceId: 'i-1', PrivateIpAddress: '127.0.0.5', Ipv6Address: '::1' })).toEqual({ privateIp: '127.0.0.5', ipv6: '::1' });
  });

  it('scrapes a bridge container on an IPv6-only EC2 host on the host\'s IPv6 address', () => {
    const context = loadContext('bridge');
    const host = { ...PROD_HOST, privateIp: undefined, ...fromEc2Instance(onlyInstance()) };

    const resolution = resolve({ ...context, host });

    expect(resolution.targets.length).toBeGreaterThan(0);
    expect(resolution.targets.every((target) => target.address.startsWith('[::1]:'))).toBe(true);
    expect(resolution.targets.every((target) => target.labels['__meta_ecs_ip_address'] === '::1')).toBe(true);
  });

  it('skips with no_ip, not host_not_found, an EC2 host that exists but has no address', () => {
    const context = loadContext('host');

    const resolution = resolve({ ...context, host: { containerInstanceArn: PROD_HOST.containerInstanceArn, instanceId: PROD_HOST.instanceId, found: true } });

    expect(resolution.targets).toEqual([]);
    expect(resolution.skips.map((skip) => [skip.reason, skip.detail])).toContainEqual(['no_ip', `EC2 instance ${PROD_HOST.instanceId} has no IP address`]);
  });
});

describe('ECS Anywhere (launch type EXTERNAL)', () => {
  it('reads the address of a managed instance from DescribeInstanceInformation', () => {
    const [information] = readDescribeInstanceInformation().InstanceInformationList;

    expect(fromManagedInstance(information!)).toEqual({ privateIp: '127.0.3.7' });
    expect(fromManagedInstance({ ...information, IPAddress: '::1' })).toEqual({ ipv6: '::1' });
    expect(fromManagedInstance({ ...information, IPAddress: undefined })).toEqual({});
  });

  it('scrapes a bridge container on an ECS Anywhere host at the managed instance\'s address, with its id as instance_id', () => {
    const context = loadContext('external');

    const resolution = resolve(context);

    expect(resolution.skips).toEqual([]);
    expect(resolution.targets.length).toBeGreaterThan(0);
    expect(resolution.targets.every((target) => target.address.startsWith('127.0.3.7:'))).toBe(true);
    expect(resolution.targets[0]?.labels).toMatchObject({
      instance_id: MANAGED_HOST.instanceId,
      __meta_ecs_launch_type: 'EXTERNAL',
      __meta_ecs_ec2_instance_id: MANAGED_HOST.instanceId,
    });
  });

  it('skips the containers of a managed instance that SSM could not tell about, with a reason of their own', () => {
    const context = loadContext('external');
    const host = { containerInstanceArn: MANAGED_HOST.containerInstanceArn, instanceId: MANAGED_HOST.instanceId, found: false, unavailable: 'AccessDeniedException: not authorized' };

    const resolution = resolve({ ...context, host });

    expect(resolution.targets).toEqual([]);
    expect(new Set(resolution.skips.map((skip) => skip.reason))).toEqual(new Set(['managed_instance_unavailable']));
    expect(resolution.skips[0]?.detail).toContain('AccessDeniedException');
  });

  it('says a deregistered managed instance was not found', () => {
    const context = loadContext('external');
    const host = { containerInstanceArn: MANAGED_HOST.containerInstanceArn, instanceId: MANAGED_HOST.instanceId, found: false };

    const resolution = resolve({ ...context, host });

    expect(resolution.skips.map((skip) => [skip.reason, skip.detail])).toContainEqual([
      'host_not_found',
      `managed instance ${MANAGED_HOST.instanceId} not found (deregistered?)`,
    ]);
  });
});
